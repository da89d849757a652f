export interface ScheduleOptions {
  name: 'cosine' | 'constant' | 'linear';
  /** Floor of the cosine / linear decay (CosineAnnealingLR's eta_min). */
  min_lr: number;
  /** Linear warm-up from 0 over this many optimizer steps, then the schedule over the rest. */
  warmup_steps: number;
}

/**
 * Learning rate used by optimizer step k+1 (k = 0 for the first step), stepped per optimizer
 * step like torch's CosineAnnealingLR(T_max = total steps), whose recursive form equals this
 * closed form (to ~1e-20).
 */
export function learningRate(k: number, base: number, total: number, s: ScheduleOptions): number {
  if (s.warmup_steps > 0 && k < s.warmup_steps) return (base * (k + 1)) / s.warmup_steps;
  const i = k - s.warmup_steps;
  const span = Math.max(1, total - s.warmup_steps);
  const t = Math.min(i, span);
  switch (s.name) {
    case 'constant':
      return base;
    case 'linear':
      return base + (s.min_lr - base) * (t / span);
    case 'cosine':
      return s.min_lr + ((base - s.min_lr) * (1 + Math.cos((Math.PI * t) / span))) / 2;
  }
}
