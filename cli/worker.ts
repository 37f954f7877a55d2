/**
 * `nas worker`: trains, on this machine, the candidates of searches and the
 * models of finalizations started with --redis. The worker
 * (train/queue/queue-worker.ts) knows neither stage: each brings the handler
 * of its jobs, registered here by job name.
 */
import type { Command } from 'commander';
import { FINALIZE_JOB_NAME } from '../finalize/final-queue-protocol.js';
import { finalJobHandler } from '../finalize/final-job-handler.js';
import { TRAIN_JOB_NAME } from '../search/queue-protocol.js';
import { candidateJobHandler } from '../search/queue-job-handler.js';
import { QueueWorker } from '../train/queue/queue-worker.js';
import { action, positiveInt } from './errors.js';

interface WorkerFlags {
  redis: string;
  concurrency?: number;
  data?: string;
  sharedDir?: string;
  maxResultMib?: number;
  lockDuration?: number;
  stalledInterval?: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('train candidates of the searches and models of the finalizations running with --redis (until Ctrl-C)')
    .requiredOption('--redis <url>', 'redis://[user[:password]@]host[:port][/db], or rediss:// for TLS (password also from NAS_REDIS_PASSWORD)')
    .option('--concurrency <n>', 'candidates or models trained at once, one thread each (per run)', positiveInt('--concurrency'))
    .option('--data <name|path>', "this machine's copy of the search's data (needed when the search's data is a path; finalizations use the same)")
    .option('--shared-dir <dir>', 'write trained candidates and models here instead of sending them through Redis (the search or finalization gets the same --shared-dir)')
    .option('--max-result-mib <n>', 'largest result sent through Redis, in MiB (default 64)', positiveInt('--max-result-mib'))
    .option('--lock-duration <ms>', 'job lock; a killed worker\'s job waits this long plus the stalled interval (default 30000)', positiveInt('--lock-duration'))
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers (default 30000)', positiveInt('--stalled-interval'))
    .action(
      action(async (o: WorkerFlags) => {
        const worker = await QueueWorker.start({
          redisUrl: o.redis,
          handlers: { [TRAIN_JOB_NAME]: candidateJobHandler(o.concurrency), [FINALIZE_JOB_NAME]: finalJobHandler(o.concurrency) },
          concurrency: o.concurrency,
          dataSpec: o.data,
          sharedDir: o.sharedDir,
          backend: program.opts().backend,
          maxResultBytes: o.maxResultMib !== undefined ? o.maxResultMib * 2 ** 20 : undefined,
          lockDurationMs: o.lockDuration,
          stalledIntervalMs: o.stalledInterval,
          onEvent: (e) => {
            if (e.kind === 'ready') console.error(`worker: connected to ${e.redis}; data ${e.data ?? "(the search's, when built in)"}${e.contentHash ? ` (content hash ${e.contentHash})` : ''}`);
            else if (e.kind === 'watching') console.error(`worker: watching ${e.queue}`);
            else if (e.kind === 'unlisted') {
              const stage = e.queue.startsWith('nas-final-') ? 'finalize' : 'search';
              console.error(`worker: unlisted ${e.queue}: its ${stage === 'search' ? 'search' : 'finalization'} was not heard from within its TTL (killed?); 'nas ${stage} --resume' lists it again`);
            }
            else if (e.kind === 'unwatched') console.error(`worker: stopped watching ${e.queue}`);
            else if (e.kind === 'started') console.error(`worker: training ${e.subject} (${e.jobId})`);
            else if (e.kind === 'note') console.error(`worker: ${e.line} (${e.jobId})`);
            else if (e.kind === 'completed') console.error(`worker: ${e.subject} done in ${e.seconds.toFixed(1)} s, accuracy ${(e.accuracy * 100).toFixed(2)}% (${e.jobId})`);
            else if (e.kind === 'failed') console.error(`worker: job ${e.jobId} failed: ${e.error}`);
            else if (e.kind === 'refused') console.error(`worker: stopping: ${e.error.message}`);
          },
        });
        let signals = 0;
        const stop = () => {
          if (++signals > 1) process.exit(130);
          console.error('worker: finishing the jobs in progress (Ctrl-C again to quit at once; a job cut short goes back to the queue)…');
          void worker.close();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        const refusal = await worker.stopped();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        if (refusal) throw refusal;
      }),
    );
}
