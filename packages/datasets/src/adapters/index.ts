import type { PluginSpec } from '@dfdet/core';
import { fileListDataset } from './file-list.js';
import { folderDataset } from './folder.js';
import { deepfakebenchDataset } from './deepfakebench.js';
import { syntheticDataset } from './synthetic.js';
import { dfdDataset, ffppDataset } from './corpora/ffpp.js';
import { celebDfV1Dataset, celebDfV2Dataset, celebDfV3Dataset } from './corpora/celeb-df.js';
import { dfdcDataset, dfdcPreviewDataset } from './corpora/dfdc.js';
import {
  deeperforensicsDataset,
  deepspeakDataset,
  dfdmDataset,
  fakeavcelebDataset,
  ffiwDataset,
  idforgeDataset,
  kodfDataset,
  polyglotfakeDataset,
  uadfvDataset,
  wilddeepfakeDataset,
} from './corpora/others.js';

export * from './common.js';
export * from './mt19937.js';
export * from './list-file.js';
export * from './tree.js';
export * from './corpus.js';
export * from './file-list.js';
export * from './folder.js';
export * from './deepfakebench.js';
export * from './synthetic.js';
export * from './index-writer.js';
export * from './corpora/ffpp.js';
export * from './corpora/celeb-df.js';
export * from './corpora/dfdc.js';
export * from './corpora/others.js';

/** Every dataset plugin of this package, for `pluginModule(...datasetPlugins)`. */
export const datasetPlugins: PluginSpec<any, any>[] = [
  fileListDataset,
  folderDataset,
  deepfakebenchDataset,
  syntheticDataset,
  ffppDataset,
  dfdDataset,
  celebDfV1Dataset,
  celebDfV2Dataset,
  celebDfV3Dataset,
  dfdcDataset,
  dfdcPreviewDataset,
  ffiwDataset,
  deeperforensicsDataset,
  wilddeepfakeDataset,
  uadfvDataset,
  fakeavcelebDataset,
  kodfDataset,
  dfdmDataset,
  deepspeakDataset,
  polyglotfakeDataset,
  idforgeDataset,
];
