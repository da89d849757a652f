// Loader workers run TypeScript: register tsx's loader in this thread, then import the worker.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
