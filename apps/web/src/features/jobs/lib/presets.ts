import type { RecipeInput } from '../../estimates/api/estimates.api.js';

export interface RecipePreset {
  id: string;
  label: string;
  modality: 'text' | 'image';
  recipe: RecipeInput;
  gpuCount: number;
}

/** Starting points; every field stays editable. */
export const RECIPE_PRESETS: readonly RecipePreset[] = [
  {
    id: 'llama-3.1-8b-qlora-2k',
    label: 'Llama 3.1 8B, QLoRA, 2k context',
    modality: 'text',
    recipe: { baseModelId: 'meta-llama/Llama-3.1-8B', method: 'qlora', precision: 'bf16', quantization: 'nf4', seqLen: 2048, batchSize: 4, gradAccum: 4, steps: 500, learningRate: 0.0002, loraRank: 16 },
    gpuCount: 1,
  },
  {
    id: 'mistral-7b-lora',
    label: 'Mistral 7B LoRA',
    modality: 'text',
    recipe: { baseModelId: 'mistralai/Mistral-7B-v0.1', method: 'lora', precision: 'bf16', quantization: 'none', seqLen: 2048, batchSize: 4, gradAccum: 4, steps: 500, learningRate: 0.0002, loraRank: 16 },
    gpuCount: 1,
  },
  {
    id: 'sdxl-lora-1024',
    label: 'SDXL LoRA 1024px',
    modality: 'image',
    recipe: { baseModelId: 'stabilityai/stable-diffusion-xl-base-1.0', method: 'lora', precision: 'bf16', quantization: 'none', resolution: { width: 1024, height: 1024 }, batchSize: 1, gradAccum: 4, steps: 1500, learningRate: 0.0001, loraRank: 32 },
    gpuCount: 1,
  },
  {
    id: 'llama-3.1-70b-qlora-4k',
    label: 'Llama 3.1 70B, QLoRA, 4k context',
    modality: 'text',
    recipe: { baseModelId: 'meta-llama/Llama-3.1-70B', method: 'qlora', precision: 'bf16', quantization: 'nf4', seqLen: 4096, batchSize: 1, gradAccum: 16, steps: 300, learningRate: 0.0001, loraRank: 16 },
    gpuCount: 2,
  },
];
