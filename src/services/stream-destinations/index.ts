import type { HttpsConfig, NatsConfig, StreamSecrets, StreamType, SyslogConfig } from '../../domain/stream.ts';
import { httpsDestination } from './https.ts';
import { natsDestination } from './nats.ts';
import { syslogDestination } from './syslog.ts';
import type { Destination } from './types.ts';

export { DestinationError, reason, type Destination, type OutgoingEntry } from './types.ts';

/** The destination of a stream's type, for one delivery round. */
export function openDestination(s: { id: string; orgId: string; type: StreamType; config: unknown; secrets: StreamSecrets }): Destination {
  switch (s.type) {
    case 'https': return httpsDestination(s.id, s.config as HttpsConfig, s.secrets.hmac_secret);
    case 'syslog': return syslogDestination(s.id, s.orgId, s.config as SyslogConfig);
    case 'nats': return natsDestination(s.config as NatsConfig, s.secrets);
  }
}
