export { GPU_CATALOG, getGpu, isGpuId, lookupGpu, normalizeGpuName } from './catalog/gpu-catalog.js';
export type { GpuLookup, GpuModel } from './catalog/gpu-catalog.js';
