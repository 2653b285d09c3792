/** Types of layers.config.js (read by eslint.config.js, scripts and tests). */
export declare const LAYERS: ReadonlyArray<{ tier: string; folders: readonly string[] }>;
export declare const LAYER_ORDER: readonly string[];
export declare function tierOf(folder: string): string | null;
export declare function layerLintConfigs(maxDepth?: number): unknown[];
