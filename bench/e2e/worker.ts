/**
 * One Tributary worker process for `npm run bench:scale` (sync + delivery, as `tributary worker`
 * runs them), on the PostgreSQL given in argv[2]. Tells the parent when it is up; stops on
 * disconnect.
 */
import { benchContext, startWorker } from './harness.js';

const ctx = await benchContext(process.argv[2]!);
const worker = await startWorker(ctx, `bench-worker-${process.pid}`);
process.send!({ up: true });
process.on('disconnect', () => {
  void worker
    .stop()
    .then(() => ctx.store.close())
    .finally(() => process.exit(0));
});
