/**
 * bench:alerts' webhook receiver, in a process of its own (as a real receiver is another
 * system): test/alert-peers.ts's receiver, which checks every signature, driven over IPC.
 *
 *   parent -> { secret }          sets the secret the signatures are checked under
 *   child  -> { url }             once listening
 *   parent -> { collect: n }      asks for the first n hooks once they have all arrived
 *   child  -> { hooks: [[record id, arrival ms, signed], ...] }
 */
import { startWebhookReceiver } from '../test/alert-peers.ts';

const hook = await startWebhookReceiver();
process.on('message', (m: { secret?: string; collect?: number }) => {
  if (m.secret !== undefined) hook.setSecret(m.secret);
  if (m.collect !== undefined) {
    const n = m.collect;
    void hook.waitFor(n).then(() => process.send!({
      hooks: hook.hooks.slice(0, n).map((h) => [(h.body.entry as { record: { id: string } }).record.id, h.at, h.signed]),
    }));
  }
});
process.on('disconnect', () => { void hook.close().then(() => process.exit(0)); });
process.send!({ url: hook.url });
