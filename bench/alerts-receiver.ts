/**
 * bench:alerts' webhook receiver, in a process of its own (as a real receiver is another
 * system): test/alert-peers.ts's receiver, which checks every signature, driven over IPC.
 *
 *   parent -> { secret }          sets the secret the signatures are checked under
 *   child  -> { url }             once listening
 *   parent -> { collect: n }      asks for the first n hooks once they have all arrived
 *   child  -> { hooks: [[record id, arrival ms, signed], ...] }
 *
 * A batched POST (`"event": "alert.batch"`) counts as one hook per delivery it carries.
 */
import { startWebhookReceiver } from '../test/alert-peers.ts';

const hook = await startWebhookReceiver();
process.on('message', (m: { secret?: string; collect?: number }) => {
  if (m.secret !== undefined) hook.setSecret(m.secret);
  if (m.collect !== undefined) {
    const n = m.collect;
    // Counted as hooks arrive (not recounted from the start each time: 20,000 hooks would make that quadratic).
    const got: (readonly [string, number, boolean])[] = [];
    let seen = 0;
    const check = () => {
      for (; seen < hook.hooks.length; seen++) {
        const h = hook.hooks[seen];
        for (const d of (h.body.deliveries ?? [h.body]) as { entry: { record: { id: string } } }[]) got.push([d.entry.record.id, h.at, h.signed]);
      }
      if (got.length >= n) process.send!({ hooks: got.slice(0, n) });
      else void hook.waitFor(hook.hooks.length + 1).then(check);
    };
    check();
  }
});
process.on('disconnect', () => { void hook.close().then(() => process.exit(0)); });
process.send!({ url: hook.url });
