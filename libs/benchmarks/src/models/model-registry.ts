/**
 * A small registry of well-known base models: id → family, parameter count, modality.
 *
 * The benchmark key names a model only by family and parameter count, never by its id, so a private
 * fine-tune ('acme/secret-13b') never reaches a benchmark sample under its own name: an id that is
 * not in the registry can still be estimated from the parameter count in its name, but under the
 * family 'custom', and the lookup says so.
 *
 * Modality 'image' covers diffusion image and video models (video adds frames to the shape).
 */
export type Modality = 'text' | 'image';

export interface BaseModel {
  /** Hugging Face id where there is one ('meta-llama/Llama-3.1-8B'), else a canonical name. */
  id: string;
  /** Architecture family used in benchmark keys: 'llama-3', 'qwen2.5', 'sdxl'. */
  family: string;
  /** Total parameters, billions. */
  paramsB: number;
  /** Parameters active per token (mixture-of-experts); equal to paramsB for dense models. */
  activeParamsB: number;
  modality: Modality;
  /** Other spellings: instruct variants, the names used by the public benchmark tables. */
  aliases: readonly string[];
}

export interface ResolvedModel {
  id: string;
  family: string;
  paramsB: number;
  activeParamsB: number;
  modality: Modality;
  /** 'registry': a known model; 'parsed_from_id': the parameter count was read from the id. */
  source: 'registry' | 'parsed_from_id';
}

export type ModelLookup =
  | { kind: 'known'; model: ResolvedModel }
  | { kind: 'parsed'; model: ResolvedModel; note: string }
  | { kind: 'unknown'; id: string };

/** The family every model outside the registry is filed under (its id is never stored). */
export const CUSTOM_FAMILY = 'custom';

type Entry = [id: string, family: string, paramsB: number, modality: Modality, aliases: string[], activeParamsB?: number];

const ENTRIES: Entry[] = [
  // Llama 3.x: 3, 3.1, 3.2, 3.3 share the architecture; size tells them apart.
  ['meta-llama/Llama-3.2-1B', 'llama-3', 1.24, 'text', ['meta-llama/Llama-3.2-1B-Instruct', 'Llama-3.2-1B']],
  ['meta-llama/Llama-3.2-3B', 'llama-3', 3.21, 'text', ['meta-llama/Llama-3.2-3B-Instruct', 'Llama-3.2-3B']],
  [
    'meta-llama/Llama-3.1-8B',
    'llama-3',
    8.03,
    'text',
    ['meta-llama/Llama-3.1-8B-Instruct', 'meta-llama/Meta-Llama-3.1-8B', 'meta-llama/Meta-Llama-3.1-8B-Instruct', 'meta-llama/Meta-Llama-3-8B', 'meta-llama/Meta-Llama-3-8B-Instruct', 'Llama 3.1 8B', 'Llama-3-8B'],
  ],
  [
    'meta-llama/Llama-3.1-70B',
    'llama-3',
    70.6,
    'text',
    ['meta-llama/Llama-3.1-70B-Instruct', 'meta-llama/Meta-Llama-3.1-70B', 'meta-llama/Meta-Llama-3.1-70B-Instruct', 'meta-llama/Meta-Llama-3-70B', 'meta-llama/Meta-Llama-3-70B-Instruct', 'meta-llama/Llama-3.3-70B-Instruct', 'Llama 3.1 70B', 'Llama-3-70B'],
  ],
  ['meta-llama/Llama-3.1-405B', 'llama-3', 405.9, 'text', ['meta-llama/Llama-3.1-405B-Instruct', 'meta-llama/Meta-Llama-3.1-405B', 'Llama 3.1 405B']],
  ['meta-llama/Llama-2-7b-hf', 'llama-2', 6.74, 'text', ['meta-llama/Llama-2-7b-chat-hf', 'LLAMA2-7B', 'Llama-2-7B']],
  ['meta-llama/Llama-2-13b-hf', 'llama-2', 13.0, 'text', ['meta-llama/Llama-2-13b-chat-hf', 'LLAMA2-13B', 'Llama-2-13B']],
  ['meta-llama/Llama-2-70b-hf', 'llama-2', 69.0, 'text', ['meta-llama/Llama-2-70b-chat-hf', 'LLAMA2-70B', 'Llama-2-70B']],
  ['codellama/CodeLlama-34b-hf', 'llama-2', 33.7, 'text', ['codellama/CodeLlama-34b-Instruct-hf', 'CodeLlama-34B']],
  ['mistralai/Mistral-7B-v0.1', 'mistral', 7.24, 'text', ['mistralai/Mistral-7B-v0.3', 'mistralai/Mistral-7B-Instruct-v0.1', 'mistralai/Mistral-7B-Instruct-v0.2', 'mistralai/Mistral-7B-Instruct-v0.3', 'Mistral-7B']],
  ['mistralai/Mixtral-8x7B-v0.1', 'mixtral', 46.7, 'text', ['mistralai/Mixtral-8x7B-Instruct-v0.1', 'Mixtral-8x7B'], 12.9],
  ['mistralai/Mixtral-8x22B-v0.1', 'mixtral', 140.6, 'text', ['mistralai/Mixtral-8x22B-Instruct-v0.1', 'Mixtral-8x22B'], 39.1],
  ['Qwen/Qwen2.5-0.5B', 'qwen2.5', 0.494, 'text', ['Qwen/Qwen2.5-0.5B-Instruct']],
  ['Qwen/Qwen2.5-1.5B', 'qwen2.5', 1.54, 'text', ['Qwen/Qwen2.5-1.5B-Instruct']],
  ['Qwen/Qwen2.5-3B', 'qwen2.5', 3.09, 'text', ['Qwen/Qwen2.5-3B-Instruct']],
  ['Qwen/Qwen2.5-7B', 'qwen2.5', 7.62, 'text', ['Qwen/Qwen2.5-7B-Instruct']],
  ['Qwen/Qwen2.5-14B', 'qwen2.5', 14.8, 'text', ['Qwen/Qwen2.5-14B-Instruct']],
  ['Qwen/Qwen2.5-32B', 'qwen2.5', 32.8, 'text', ['Qwen/Qwen2.5-32B-Instruct']],
  ['Qwen/Qwen2.5-72B', 'qwen2.5', 72.7, 'text', ['Qwen/Qwen2.5-72B-Instruct']],
  ['google/gemma-2-2b', 'gemma-2', 2.61, 'text', ['google/gemma-2-2b-it']],
  ['google/gemma-2-9b', 'gemma-2', 9.24, 'text', ['google/gemma-2-9b-it']],
  ['google/gemma-2-27b', 'gemma-2', 27.2, 'text', ['google/gemma-2-27b-it']],
  ['microsoft/Phi-3-mini-4k-instruct', 'phi-3', 3.82, 'text', ['microsoft/Phi-3-mini-128k-instruct', 'microsoft/Phi-3.5-mini-instruct']],
  ['microsoft/Phi-3-small-8k-instruct', 'phi-3', 7.39, 'text', ['microsoft/Phi-3-small-128k-instruct']],
  ['microsoft/Phi-3-medium-4k-instruct', 'phi-3', 14.0, 'text', ['microsoft/Phi-3-medium-128k-instruct']],
  ['google-bert/bert-base-uncased', 'bert', 0.11, 'text', ['bert-base-uncased', 'BERT-base uncased (NVIDIA DLE)']],
  ['google-bert/bert-large-uncased', 'bert', 0.336, 'text', ['bert-large-uncased', 'BERT-large uncased (NVIDIA DLE)']],
  // Image (and video) models. Parameter counts are the trained network (UNet / transformer).
  ['microsoft/resnet-50', 'resnet', 0.0256, 'image', ['ResNet-50', 'ResNet-50 v1.5 (NVIDIA DLE ConvNets)']],
  ['stable-diffusion-v1-5/stable-diffusion-v1-5', 'sd-1', 0.86, 'image', ['runwayml/stable-diffusion-v1-5', 'CompVis/stable-diffusion-v1-4', 'SD 1.5', 'SD 1.x']],
  ['stabilityai/stable-diffusion-xl-base-1.0', 'sdxl', 2.57, 'image', ['SDXL']],
  ['Kwai-Kolors/Kolors-diffusers', 'kolors', 2.58, 'image', ['Kolors']],
  ['stabilityai/stable-diffusion-3-medium-diffusers', 'sd3', 2.03, 'image', ['SD3 Medium']],
  ['stabilityai/stable-diffusion-3.5-medium', 'sd3.5', 2.47, 'image', ['SD3.5 Medium']],
  ['stabilityai/stable-diffusion-3.5-large', 'sd3.5', 8.05, 'image', ['SD3.5 Large']],
  ['black-forest-labs/FLUX.1-dev', 'flux.1', 11.9, 'image', ['black-forest-labs/FLUX.1-schnell', 'FLUX.1-dev', 'FLUX.1 [dev]']],
  ['fal/AuraFlow-v0.3', 'auraflow', 6.8, 'image', ['AuraFlow']],
  ['Alpha-VLLM/Lumina-Image-2.0', 'lumina2', 2.6, 'image', ['Lumina2']],
  ['lodestones/Chroma', 'chroma', 8.9, 'image', ['Chroma']],
  ['Shitao/OmniGen-v1', 'omnigen', 3.8, 'image', ['OmniGen']],
  ['HiDream-ai/HiDream-I1-Full', 'hidream', 17, 'image', ['HiDream']],
  ['Qwen/Qwen-Image', 'qwen-image', 20.4, 'image', ['Qwen Image']],
  ['stabilityai/stable-cascade', 'stable-cascade', 3.6, 'image', ['Stable Cascade']],
  ['nvidia/Cosmos-Predict2-2B-Text2Image', 'cosmos-predict2', 2.0, 'image', ['Cosmos 2 Image']],
  ['meituan-longcat/LongCat-Image', 'longcat-image', 6.0, 'image', ['LongCat Image']],
  ['Tongyi-MAI/Z-Image-Turbo', 'z-image', 6.15, 'image', ['Z-Image Turbo']],
  ['kandinsky-5-image-6b', 'kandinsky-5', 6.0, 'image', ['kandinsky5-image-6b-t2i', 'Kandinsky 5 Image']],
  // Video.
  ['Wan-AI/Wan2.1-T2V-1.3B-Diffusers', 'wan-2.1', 1.3, 'image', ['Wan-AI/Wan2.1-T2V-1.3B', 'Wan 2.1 T2V 1.3B']],
  ['Wan-AI/Wan2.1-T2V-14B-Diffusers', 'wan-2.1', 14, 'image', ['Wan-AI/Wan2.1-T2V-14B', 'Wan 2.1 T2V 14B']],
  ['Lightricks/LTX-Video-0.9.5', 'ltx-video', 1.9, 'image', ['LTXVideo 0.9.5']],
  ['tencent/HunyuanVideo-1.5', 'hunyuanvideo-1.5', 8.3, 'image', ['hunyuanvideo-1.5-t2v']],
  ['meituan-longcat/LongCat-Video', 'longcat-video', 13.6, 'image', ['LongCat Video']],
  ['kandinsky-5-video-2b', 'kandinsky-5-video', 2.0, 'image', ['kandinsky5-video-2b-t2v', 'Kandinsky 5 Video']],
  ['Efficient-Large-Model/SANA-Video_2B_480p_diffusers', 'sana-video', 2.0, 'image', ['sanavideo-2b-480p', 'SanaVideo']],
];

export const MODEL_REGISTRY: readonly BaseModel[] = Object.freeze(
  ENTRIES.map(([id, family, paramsB, modality, aliases, activeParamsB]) =>
    Object.freeze({ id, family, paramsB, activeParamsB: activeParamsB ?? paramsB, modality, aliases: Object.freeze([...aliases]) }),
  ),
);

/** Lower-case and drop whitespace, '-' and '_' ('Llama 3.1 8B' meets 'llama-3.1-8b'). */
export function normalizeModelName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s\-_]+/g, '');
}

const MODEL_INDEX: ReadonlyMap<string, BaseModel> = (() => {
  const index = new Map<string, BaseModel>();
  for (const model of MODEL_REGISTRY) {
    for (const name of [model.id, ...model.aliases]) {
      const key = normalizeModelName(name);
      const existing = index.get(key);
      if (existing && existing.id !== model.id) throw new Error(`model registry: '${name}' is claimed by ${existing.id} and ${model.id}`);
      index.set(key, model);
    }
  }
  return index;
})();

function resolved(model: BaseModel): ResolvedModel {
  return { id: model.id, family: model.family, paramsB: model.paramsB, activeParamsB: model.activeParamsB, modality: model.modality, source: 'registry' };
}

/** The registry entry for an id or alias, without the parse fallback. */
export function findRegisteredModel(name: string): BaseModel | undefined {
  return MODEL_INDEX.get(normalizeModelName(name));
}

const IMAGE_WORDS = /(diffusion|sdxl|flux|(^|[\/\-_])sd[\-_]?\d|dit|pixart|kandinsky|video|wan\d|t2v|t2i|unet)/i;

/**
 * Reads a parameter count out of an id like 'org/foo-13b', 'bar-1.5B-chat', 'baz-350m' or a
 * mixture like 'qux-8x7b' (taken as 8 × 7 billion total, all counted as active: an overestimate).
 * Returns undefined when the id names no size.
 */
export function parseParamsFromId(id: string): { paramsB: number; mixture: boolean } | undefined {
  const name = id.includes('/') ? id.slice(id.lastIndexOf('/') + 1) : id;
  const moe = /(?:^|[\-_.\s])(\d+)x(\d+(?:\.\d+)?)b(?=$|[\-_.\s])/i.exec(name);
  if (moe) {
    const paramsB = Number(moe[1]) * Number(moe[2]);
    if (paramsB > 0) return { paramsB, mixture: true };
  }
  const matches = [...name.matchAll(/(?:^|[\-_.\s])(\d+(?:\.\d+)?)([bm])(?=$|[\-_.\s])/gi)];
  for (const match of matches.reverse()) {
    const value = Number(match[1]);
    const unit = match[2]!.toLowerCase();
    const paramsB = unit === 'b' ? value : value / 1000;
    if (paramsB > 0 && paramsB <= 10_000) return { paramsB, mixture: false };
  }
  return undefined;
}

/**
 * Resolves a model id: the registry first; else, when the id names a size ('org/foo-13b'), a
 * 'parsed' model in the 'custom' family with a note saying the size was read from the name; else
 * unknown.
 */
export function lookupModel(id: string): ModelLookup {
  const trimmed = id.trim();
  if (trimmed.length === 0) return { kind: 'unknown', id };
  const known = findRegisteredModel(trimmed);
  if (known) return { kind: 'known', model: resolved(known) };
  const parsed = parseParamsFromId(trimmed);
  if (!parsed) return { kind: 'unknown', id };
  const modality: Modality = IMAGE_WORDS.test(trimmed) ? 'image' : 'text';
  const size = formatParams(parsed.paramsB);
  return {
    kind: 'parsed',
    model: { id: trimmed, family: CUSTOM_FAMILY, paramsB: parsed.paramsB, activeParamsB: parsed.paramsB, modality, source: 'parsed_from_id' },
    note: `'${trimmed}' is not a model we know; assumed a ${size}-parameter ${modality} model from its name${parsed.mixture ? ' (a mixture of experts, counted as all active)' : ''}`,
  };
}

/** '8B', '1.5B', '350M'. */
export function formatParams(paramsB: number): string {
  if (paramsB < 1) return `${Math.round(paramsB * 1000)}M`;
  const rounded = paramsB >= 10 ? Math.round(paramsB) : Math.round(paramsB * 10) / 10;
  return `${rounded}B`;
}
