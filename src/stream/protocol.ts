/**
 * RabbitMQ's stream protocol (PROTOCOL.adoc in rabbitmq-server's
 * rabbitmq_stream plugin): frames are `u32 size | u16 key | u16 version |
 * content`; a response has the request's key with the top bit set.
 */
export const Command = {
  DeclarePublisher: 0x01,
  Publish: 0x02,
  PublishConfirm: 0x03,
  PublishError: 0x04,
  QueryPublisherSequence: 0x05,
  DeletePublisher: 0x06,
  Subscribe: 0x07,
  Deliver: 0x08,
  Credit: 0x09,
  StoreOffset: 0x0a,
  QueryOffset: 0x0b,
  Unsubscribe: 0x0c,
  Create: 0x0d,
  Delete: 0x0e,
  Metadata: 0x0f,
  MetadataUpdate: 0x10,
  PeerProperties: 0x11,
  SaslHandshake: 0x12,
  SaslAuthenticate: 0x13,
  Tune: 0x14,
  Open: 0x15,
  Close: 0x16,
  Heartbeat: 0x17,
  Route: 0x18,
  Partitions: 0x19,
  ConsumerUpdate: 0x1a,
  ExchangeCommandVersions: 0x1b,
  StreamStats: 0x1c,
  CreateSuperStream: 0x1d,
  DeleteSuperStream: 0x1e,
} as const;

export const RESPONSE = 0x8000;

export const Code = {
  Ok: 1,
  StreamDoesNotExist: 2,
  SubscriptionIdAlreadyExists: 3,
  SubscriptionIdDoesNotExist: 4,
  StreamAlreadyExists: 5,
  StreamNotAvailable: 6,
  SaslMechanismNotSupported: 7,
  AuthenticationFailure: 8,
  SaslError: 9,
  SaslChallenge: 10,
  AuthenticationFailureLoopback: 11,
  VirtualHostAccessFailure: 12,
  UnknownFrame: 13,
  FrameTooLarge: 14,
  InternalError: 15,
  AccessRefused: 16,
  PreconditionFailed: 17,
  PublisherDoesNotExist: 18,
  NoOffset: 19,
} as const;

/** Offset specification types of Subscribe. */
export const OffsetType = { First: 1, Last: 2, Next: 3, Offset: 4, Timestamp: 5 } as const;

/** Versions Warren speaks per command, for ExchangeCommandVersions (as RabbitMQ 3.13 declares them). */
export const COMMAND_VERSIONS: ReadonlyArray<readonly [number, number, number]> = [
  [Command.DeclarePublisher, 1, 1],
  [Command.Publish, 1, 2],
  [Command.QueryPublisherSequence, 1, 1],
  [Command.DeletePublisher, 1, 1],
  [Command.Subscribe, 1, 1],
  [Command.Deliver, 1, 2],
  [Command.Credit, 1, 1],
  [Command.StoreOffset, 1, 1],
  [Command.QueryOffset, 1, 1],
  [Command.Unsubscribe, 1, 1],
  [Command.Create, 1, 1],
  [Command.Delete, 1, 1],
  [Command.Metadata, 1, 1],
  [Command.PeerProperties, 1, 1],
  [Command.SaslHandshake, 1, 1],
  [Command.SaslAuthenticate, 1, 1],
  [Command.Tune, 1, 1],
  [Command.Open, 1, 1],
  [Command.Close, 1, 1],
  [Command.Heartbeat, 1, 1],
  [Command.ExchangeCommandVersions, 1, 1],
  [Command.StreamStats, 1, 1],
  [Command.Route, 1, 1],
  [Command.Partitions, 1, 1],
  [Command.ConsumerUpdate, 1, 1],
  [Command.CreateSuperStream, 1, 1],
  [Command.DeleteSuperStream, 1, 1],
];

/** A protocol error: the connection sends Close with its code (an unknown command: UnknownFrame, as RabbitMQ does) and ends. */
export class StreamProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
