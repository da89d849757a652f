import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsoleLogger, RateMeter, formatDuration } from '../src/index.js';

function capture(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 200;
  let text = '';
  stream.on('data', (d) => (text += d.toString()));
  return { stream, text: () => text };
}

const info = { experiment: 'e', run: 'r', dir: '/tmp/r', config: {}, resumed: false };

describe('ConsoleLogger', () => {
  it('prints plain periodic lines when not a TTY', () => {
    const out = capture(false);
    const log = new ConsoleLogger({ every_n_steps: 5, every_seconds: 3600 }, out.stream);
    log.start(info);
    for (let step = 1; step <= 12; step++) log.progress({ step, totalSteps: 12, epoch: 1, totalEpochs: 2, values: { loss: 1 / step } });
    log.log({ step: 12, 'val/video/mAP': 0.875, 'val/a/video/mAP': 0.5, 'val/video/n': 12, 'train/loss': 0.1 });
    log.finish({}, 'completed');
    const lines = out.text().trim().split('\n');
    expect(lines[0]).toBe('starting e/r -> /tmp/r');
    const steps = lines.filter((l) => l.startsWith('[epoch')).map((l) => Number(/step (\d+)\/12/.exec(l)![1]));
    expect(steps).toEqual([1, 6, 11, 12]);
    expect(lines.find((l) => l.includes('step 6/12'))).toMatch(/loss 0\.1667 \| [\d.]+ it\/s \| ETA /);
    expect(lines).toContain('[step 12] val/video/mAP=0.8750');
    expect(lines.at(-1)).toBe('run completed');
  });

  it('draws a progress bar with epoch, step, loss, rate and ETA on a TTY', () => {
    const out = capture(true);
    const log = new ConsoleLogger({ every_n_steps: 5, every_seconds: 30 }, out.stream);
    log.progress({ step: 3, totalSteps: 10, epoch: 1, totalEpochs: 2, values: { loss: 0.5 } });
    log.progress({ step: 4, totalSteps: 10, epoch: 1, totalEpochs: 2, values: { loss: 0.25 } });
    log.finish({}, 'completed');
    expect(out.text()).toMatch(/epoch 1\/2 \|.*\| step 4\/10 \| loss 0\.2500 \| [\d.]+ it\/s \| ETA/);
  });
});

describe('progress helpers', () => {
  it('measures the rate over recent steps', () => {
    const m = new RateMeter(3);
    m.tick(0, 0);
    m.tick(1, 500);
    expect(m.tick(2, 1000)).toBeCloseTo(2, 9);
    expect(m.tick(4, 1500)).toBeCloseTo(3, 9);
  });
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3 * 3600 + 60)).toBe('3h01m');
    expect(formatDuration(Number.NaN)).toBe('--');
  });
});
