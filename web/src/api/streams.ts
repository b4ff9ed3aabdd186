import { apiGet, apiSend } from './client.ts';

/** auditrail's SIEM streams API (`/api/v1/streams`, src/http/routes/stream-routes.ts). */

export type StreamType = 'https' | 'syslog' | 'nats';

export interface Stream {
  id: string;
  name: string;
  type: StreamType;
  status: 'active' | 'paused';
  owner: { id: string; name: string | null };
  destination: Record<string, unknown>;
  secrets: string[];
  progress: { cursor_seq: number; last_delivered_seq: number | null; head_seq: number; lag_entries: number; lag_seconds: number;
    delivered: number; last_delivered_time: string | null };
  error: { message: string; time: string | null; failures: number; next_attempt_time: string | null } | null;
  gap: { from_seq: number; to_seq: number; time: string | null; message: string } | null;
  created_time: string | null;
}

export async function listStreams(): Promise<Stream[]> {
  return (await apiGet<{ streams: Stream[] }>('/api/v1/streams'))?.streams ?? [];
}

/** Creates a stream; an HTTPS stream's generated secret comes back here only. */
export async function createStream(input: { name: string; type: StreamType; destination: Record<string, unknown>; from_seq?: number }) {
  return apiSend<{ stream: Stream; secret?: string }>('POST', '/api/v1/streams', input);
}

export const setStreamStatus = (id: string, status: 'active' | 'paused') =>
  apiSend<{ stream: Stream }>('PATCH', `/api/v1/streams/${encodeURIComponent(id)}`, { status });

export const rewindStream = (id: string, seq: number) =>
  apiSend<{ stream: Stream }>('POST', `/api/v1/streams/${encodeURIComponent(id)}/rewind`, { seq });

export const deleteStream = (id: string) => apiSend<unknown>('DELETE', `/api/v1/streams/${encodeURIComponent(id)}`);
