/**
 * Piscina entry that trains one candidate per task: the plain function of
 * training-job.ts, which the queue workers of `nas worker` run too.
 */
export { runTrainingJob as default } from './training-job.js';
