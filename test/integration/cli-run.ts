/** The exp CLI in-process (see @dfdet/core/testing). */
export { runExp as runCli } from '@dfdet/core/testing';
