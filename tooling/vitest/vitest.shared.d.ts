import type { ViteUserConfig } from 'vitest/config';
export declare function vitestConfig(options?: { testTimeout?: number }): ViteUserConfig;
