// One logger shape for every package: it lives in @pyworkers/common.
export { type Logger, silentLogger } from '@pyworkers/common';
