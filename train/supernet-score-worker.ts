/**
 * Piscina entry that scores one subnet per task with a cached supernet: the
 * plain function of supernet-scoring-job.ts.
 */
export { runSubnetScoringJob as default } from './supernet-scoring-job.js';
