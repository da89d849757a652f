import type { PluginInstanceConfig } from '../plugin/spec.js';
import type { ScheduleOptions } from './schedule.js';

/** The typed view of the sections training/sections.ts registers (after validation and defaults). */
export interface TrainingConfig {
  seed: number;
  plugins: string[];
  model?: {
    backbone: PluginInstanceConfig;
    peft: PluginInstanceConfig;
    head: PluginInstanceConfig;
    feature_augmentation?: PluginInstanceConfig;
    init_from?: { path: string; include: string[] };
  };
  loss?: Record<string, Record<string, unknown> | undefined>;
  data: {
    train: PluginInstanceConfig[];
    val: PluginInstanceConfig[];
    test: PluginInstanceConfig[];
    batch_size: number;
    micro_batch_size?: number;
    eval_batch_size: number;
    workers: number;
    augmentations: PluginInstanceConfig[];
    on_bad_file: 'error' | 'skip';
    balanced: boolean;
  };
  optim: { name: 'adamw'; lr: number; betas: [number, number]; eps: number; weight_decay: number; no_decay: string[]; grad_clip?: number };
  schedule: ScheduleOptions;
  trainer: {
    epochs: number;
    max_steps?: number;
    val_every_n_steps?: number;
    monitor: string;
    mode: 'max' | 'min';
    early_stopping_patience?: number;
    checkpoint_every_n_steps: number;
    log_every_n_steps: number;
    decision_rule: 'argmax' | 'ge';
  };
}
