/**
 * Node names and queue keys become NATS subject tokens and KV keys: a
 * token may not hold '.', '*', '>' or whitespace, and KV keys allow only
 * [-/_=.a-zA-Z0-9]. base64url fits both and is reversible.
 */
export const subjectToken = (text: string): string => Buffer.from(text, "utf8").toString("base64url");

export const fromSubjectToken = (token: string): string => Buffer.from(token, "base64url").toString("utf8");
