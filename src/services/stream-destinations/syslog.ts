import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname as osHostname } from 'node:os';
import { octetFrame, syslogMessage, type SyslogConfig } from '../../domain/stream.ts';
import { DestinationError, reason, type Destination, type OutgoingEntry } from './types.ts';

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A syslog receiver over TCP, or TLS (RFC 5425), taking RFC 5424 messages framed by octet
 * counting (RFC 6587): one connection per delivery round, the batch written in order. TCP has no
 * receipt of its own: a batch counts as taken once the socket has flushed it, and a receiver
 * that closed or reset the connection fails the next write. TLS checks the receiver's certificate
 * against the stream's CA (`ca_pem`) or the system's, always.
 */
export function syslogDestination(streamId: string, orgId: string, config: SyslogConfig): Destination {
  let socket: Socket | null = null;
  let failure: Error | null = null;
  const hostname = config.hostname ?? osHostname();

  function open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const servername = config.server_name ?? (isIP(config.host) ? undefined : config.host);
      const s: Socket = config.tls
        ? tlsConnect({ host: config.host, port: config.port, ca: config.ca_pem ?? undefined, servername, rejectUnauthorized: true })
        : tcpConnect({ host: config.host, port: config.port });
      const timer = setTimeout(() => s.destroy(new DestinationError(`no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      s.once(config.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.on('error', (e) => { failure = e; });
        s.on('close', () => { failure ??= new DestinationError('the receiver closed the connection'); });
        // Whatever the receiver says back is not part of the protocol.
        s.on('data', () => {});
        resolve(s);
      });
      s.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  return {
    async send(batch: readonly OutgoingEntry[]) {
      if (batch.length === 0) return;
      try {
        if (!socket || failure) {
          socket?.destroy();
          failure = null;
          socket = await open();
        }
        const frames = Buffer.concat(batch.map((e) => octetFrame(syslogMessage(e, { facility: config.facility, hostname, orgId, streamId }))));
        const s = socket;
        await new Promise<void>((resolve, reject) => s.write(frames, (err) => (err ? reject(err) : resolve())));
        if (failure) throw failure;
      } catch (err) {
        socket?.destroy();
        socket = null;
        throw new DestinationError(`syslog ${config.tls ? 'TLS' : 'TCP'} ${config.host}:${config.port}: ${reason(err)}`);
      }
    },
    async close() {
      const s = socket;
      socket = null;
      if (s && !s.destroyed) await new Promise<void>((resolve) => { s.end(() => resolve()); setTimeout(resolve, 1000).unref(); });
    },
  };
}
