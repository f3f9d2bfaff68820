/**
 * @module retention
 * The retention sweeper: generated images, uploads and conversations older than their
 * configured age are deleted; the counts left feed /health.
 */
export {
  RetentionSweeper,
  type RetentionTarget,
  type SweepReport,
  type SweeperOptions,
} from './sweeper.ts';
