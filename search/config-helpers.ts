/**
 * What a search config implies beyond its own fields: the space it names or
 * holds, the teacher it distils from, and the setting a run works in (the
 * dataset loaded, the space built for its shape, the teacher spec). The
 * search loop starts from it, and so do the stages after the search, which
 * get it from their caller (cli/) rather than from search/.
 */
import { NAMED_SPACES } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import type { SearchSpaceConfig } from '../space/types.js';
import { loadDataset } from '../train/datasets/load.js';
import type { TeacherSpec } from '../train/teacher.js';
import { trainedTeacherSpec } from '../train/trained-teacher.js';
import type { Dataset } from '../train/types.js';
import type { SearchConfig } from './config.js';

/** The space a config names or holds. */
export function spaceConfigOf(config: SearchConfig): SearchSpaceConfig {
  return typeof config.space === 'string' ? NAMED_SPACES[config.space] : config.space;
}

/** The teacher a config distils from, for data of `dataResolution` pixels a side; null without one. */
export function teacherSpecOf(config: SearchConfig, space: MobileNetSpace, dataResolution: number): TeacherSpec | null {
  const t = config.teacher;
  if (t === null) return null;
  if ('onnx' in t) return { kind: 'onnx', path: t.onnx, inputScale: t.inputScale, layout: t.layout };
  return trainedTeacherSpec(space, t.train.epochs, dataResolution, config.seed, t.train.threads ?? 1, t.train.architecture);
}

/** A run's setting: its dataset, its space built for the data's shape, and its teacher spec. */
export interface RunSetting {
  dataset: Dataset;
  space: MobileNetSpace;
  teacherSpec: TeacherSpec | null;
}

/**
 * Loads the config's dataset and derives the space and the teacher spec from
 * it. `spaceConfig` replaces the config's space (a supernet search narrows it).
 */
export function runSetting(config: SearchConfig, spaceConfig: SearchSpaceConfig = spaceConfigOf(config)): RunSetting {
  const dataset = loadDataset(config.data);
  const space = new MobileNetSpace(spaceConfig, { numClasses: dataset.numClasses, inputChannels: dataset.train.channels });
  return { dataset, space, teacherSpec: teacherSpecOf(config, space, dataset.train.height) };
}
