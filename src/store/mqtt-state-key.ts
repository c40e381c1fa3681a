/** A session (vhost, client id) or retained message (vhost, topic) as one map key; NUL occurs in neither. */
export const mqttStateKey = (vhost: string, name: string): string => `${vhost}\u0000${name}`;
