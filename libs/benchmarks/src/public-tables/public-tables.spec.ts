import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyToString } from '../key/benchmark-key.js';
import {
  PUBLIC_TABLES,
  aggregatePriorSamples,
  mapMethod,
  mapPrecision,
  mapQuantization,
  mapShape,
  parseLambdaTable,
  parseLlmFinetuneTable,
  parseMlperfTable,
  parsePublicTable,
  parseSimpleTunerTable,
  snapshotFromPublicTables,
  summarizeUnmapped,
} from './public-tables.js';

const HEADER = 'source,model,method,gpu,gpu_count,seq_len_or_resolution,batch_size,grad_accum,precision,quantization,metric,value,unit,note';

function csv(...rows: string[]): string {
  return [HEADER, ...rows].join('\n');
}

describe('label mapping', () => {
  it.each([
    ['fp16 (AMP mixed precision)', 'fp16'],
    ['fp32 (NGC container; TF32 math may be enabled on Ampere+)', 'fp32'],
    ['bf16 mixed', 'bf16'],
    ['fp8 (per submitted configs; not_in_log)', 'fp8'],
    ['mxfp8', 'fp8'],
    ['fp4', 'fp4'],
  ])('precision %s → %s', (label, precision) => {
    expect(mapPrecision(label)).toEqual({ ok: true, value: precision });
  });

  it.each(['fp4(nvfp4) or fp8 - not_in_log', 'not_in_log', 'not stated', 'bf16/fp16 (16-bit)', '16-bit compute', 'int2'])('precision %s is reported, not guessed', (label) => {
    expect(mapPrecision(label)).toMatchObject({ ok: false, reason: 'ambiguous_precision' });
  });

  it.each([
    ['none', 'none'],
    ['nf4 (bitsandbytes 4-bit QLoRA per README)', 'nf4'],
    ['4-bit (QLoRA)', 'nf4'],
    ['int4', 'int4'],
    ['int8 (int8-sdnq-hadamard)', 'int8'],
    ['fp8 (fp8-torchao)', 'fp8'],
    ['fp8 weight-only (fp8wo-torchao)', 'fp8-wo'],
  ])('quantization %s → %s', (label, q) => {
    expect(mapQuantization(label)).toEqual({ ok: true, value: q });
  });

  it('reports unknown quantization', () => {
    expect(mapQuantization('gptq')).toMatchObject({ ok: false, reason: 'unknown_quantization' });
  });

  it.each([
    ['4096', 'text', { kind: 'seq', seqLen: 4096 }],
    ['224x224', 'image', { kind: 'image', width: 224, height: 224, frames: 1 }],
    ['832x480, 81f', 'image', { kind: 'image', width: 832, height: 480, frames: 81 }],
    ['512 px square crop', 'image', { kind: 'image', width: 512, height: 512, frames: 1 }],
    ['1024 px', 'image', { kind: 'image', width: 1024, height: 1024, frames: 1 }],
    ['480 pixel-area video buckets, 48 frames, batch 2', 'image', { kind: 'image', width: 480, height: 480, frames: 48 }],
  ] as const)('shape %s (%s)', (label, modality, shape) => {
    expect(mapShape(label, modality)).toEqual({ ok: true, value: shape });
  });

  it.each([
    ['not stated', 'text'],
    ['variable', 'text'],
    ['8000 audio samples', 'image'],
  ] as const)('shape %s is reported', (label, modality) => {
    expect(mapShape(label, modality)).toMatchObject({ ok: false, reason: 'unparseable_shape' });
  });

  it('methods', () => {
    expect(mapMethod('anything', 'lambda_dlbenchmark_pytorch.csv')).toEqual({ ok: true, value: 'full' });
    expect(mapMethod('QLoRA 4-bit; system=Unsloth', 'llm')).toEqual({ ok: true, value: 'qlora' });
    expect(mapMethod('LoRA r=16 alpha=32', 'mlperf')).toEqual({ ok: true, value: 'lora' });
    expect(mapMethod('cosmos2image.lycoris-lokr', 'simpletuner')).toEqual({ ok: true, value: 'lora' });
    expect(mapMethod('SFT (SQuAD)', 'llm')).toEqual({ ok: true, value: 'full' });
    expect(mapMethod('full finetune (+ Compile, cumulative)', 'llm')).toEqual({ ok: true, value: 'full' });
    expect(mapMethod('DPO', 'llm')).toMatchObject({ ok: false, reason: 'unknown_method' });
  });
});

describe('parsePublicTable', () => {
  it('turns step-time rows into prior samples with keys and sources; other metrics are skipped', () => {
    const result = parseLlmFinetuneTable(
      csv(
        '"NVIDIA/NeMo (Finetuning table)",LLAMA2-7B,LoRA (SQuAD),H100-SXM-80GB (DGX-H100),8,4096,32,4,fp8,none,tokens_per_s_per_gpu,24824,tokens/s/GPU,x',
        '"NVIDIA/NeMo (Finetuning table)",LLAMA2-7B,LoRA (SQuAD),H100-SXM-80GB (DGX-H100),8,4096,32,4,fp8,none,step_time_ms_derived,660.0,ms,DERIVED',
      ),
    );
    expect(result.rowsRead).toBe(2);
    expect(result.skipped).toEqual({ tokens_per_s_per_gpu: 1 });
    expect(result.unmapped).toEqual([]);
    expect(result.samples).toHaveLength(1);
    const [sample] = result.samples;
    expect(keyToString(sample!.key)).toBe('llama-2/6.74b/lora|h100-sxmx8|seq4096|b8|ga4|fp8|none');
    expect(sample!.stepTimeMs).toBe(660);
    expect(sample!.source).toBe('llm_finetune_lora_qlora_tables.csv: NVIDIA/NeMo (Finetuning table)');
    expect(sample!.row).toBe(3);
  });

  it('reports rows it cannot map, with the reason', () => {
    const result = parseMlperfTable(
      csv(
        's,Llama-2-70B,LoRA,Gaudi2,8,8192,8,1,fp8,none,train_step_time_ms,100,ms,',
        's,Llama-9-1B,LoRA,H100-SXM-80GB,8,8192,8,1,fp8,none,train_step_time_ms,100,ms,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,8,1,fp4(nvfp4) or fp8 - not_in_log,none,train_step_time_ms,100,ms,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,not stated,8,1,fp8,none,train_step_time_ms,100,ms,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,9,2,fp8,none,train_step_time_ms,100,ms,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,x,1,fp8,none,train_step_time_ms,100,ms,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,8,1,fp8,none,train_step_time_ms,-3,ms,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,8,1,fp8,none,train_step_time_ms,3,s,',
        's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,8,1,fp8,gptq,train_step_time_ms,3,ms,',
        's,Llama-2-70B,DPO,H100-SXM-80GB,8,8192,8,1,fp8,none,train_step_time_ms,3,ms,',
      ),
    );
    expect(result.samples).toEqual([]);
    expect(result.unmapped.map((u) => u.reason)).toEqual([
      'unknown_gpu',
      'unknown_model',
      'ambiguous_precision',
      'unparseable_shape',
      'unparseable_batch',
      'unparseable_batch',
      'invalid_value',
      'invalid_value',
      'unknown_quantization',
      'unknown_method',
    ]);
    expect(result.unmapped[0]).toEqual({ table: 'mlperf_training_llama2_70b_lora.csv', row: 2, reason: 'unknown_gpu', detail: "GPU 'Gaudi2' is not in the catalog" });
    expect(summarizeUnmapped([...result.unmapped, result.unmapped[0]!])[0]).toMatchObject({ rows: 2, reason: 'unknown_gpu' });
  });

  it('SimpleTuner: the example config names the model; LoRA on a 4-bit base is QLoRA', () => {
    const result = parseSimpleTunerTable(
      csv(
        's,HunyuanVideo,hunyuanvideo-1.5-t2v.peft-lora (LoRA; checkpointing mode=none),H100 80GB,1,"480 pixel-area video buckets, 48 frames, batch 2",2,1,bf16 mixed,none,step_time_ms,7682,ms,',
        's,SD3,sd3.peft-lora (LoRA),L40S 48GB,1,1024x1024,3,1,bf16 mixed,none,step_time_ms,1,ms,',
      ),
    );
    expect(keyToString(result.samples[0]!.key)).toBe('hunyuanvideo-1.5/8.3b/lora|h100-sxmx1|img0.5mpx48f|b2|ga1|bf16|none');
    expect(result.unmapped[0]).toMatchObject({ reason: 'unknown_model', detail: "model 'SD3' is not in the registry" });
    const qlora = parseLlmFinetuneTable(csv('s,Llama-2-7B,LoRA r=8; HF,A100 40GB,1,1024,8,2,bf16,4-bit (QLoRA),step_time_ms_derived,3000,ms,'));
    expect(qlora.samples[0]!.key).toMatchObject({ method: 'qlora', quantization: 'nf4', gpuId: 'a100-40gb-sxm', batchSize: 4, gradAccum: 2 });
    const lambda = parseLambdaTable(csv('s,BERT-large uncased (NVIDIA DLE),SQuAD fine-tuning,RTX 4090,1,384,28,1,fp16 (AMP),none,step_time_ms_derived,301.08,ms,'));
    expect(keyToString(lambda.samples[0]!.key)).toBe('bert/0.336b/full|rtx-4090x1|seq384|b28|ga1|fp16|none');
  });

  it('aggregates prior samples by key and builds a snapshot', () => {
    const text = csv(
      's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,8,4,fp8,none,train_step_time_ms,4000,ms,',
      's,Llama-2-70B,LoRA,H100-SXM-80GB,8,8192,8,4,fp8,none,train_step_time_ms_derived,4200,ms,',
      's,Llama-2-70B,LoRA,B200-SXM-180GB,8,8192,8,1,fp8,none,train_step_time_ms,1500,ms,',
    );
    const samples = parseMlperfTable(text).samples;
    const aggregates = aggregatePriorSamples(samples);
    expect(aggregates).toHaveLength(2);
    expect(aggregates[0]!.aggregate.stepTimeMs).toMatchObject({ count: 2, mean: 4100 });
    expect(aggregates[0]!.aggregate.stepsObserved).toBe(0);
    const { snapshot, results } = snapshotFromPublicTables({ 'mlperf_training_llama2_70b_lora.csv': text });
    expect(results[0]!.samples).toHaveLength(3);
    expect(snapshot.size).toBe(2);
    expect(snapshot.relativeSpeed('b200', 'h100-sxm', samples[0]!.key)?.sharedKeys).toBe(1);
  });

  it('empty input', () => {
    expect(parsePublicTable('x.csv', '')).toEqual({ table: 'x.csv', rowsRead: 0, samples: [], unmapped: [], skipped: {} });
  });
});

// The repository's own copy of the public tables (libs/benchmarks/data), present in every checkout.
const DATA_DIR = resolve(import.meta.dirname, '../../data/step-times');

describe('the real public tables', () => {
  it('parse into samples and reported rows, every step-time row accounted for', () => {
    const results = PUBLIC_TABLES.map((table) => parsePublicTable(table, readFileSync(resolve(DATA_DIR, table), 'utf8')));
    const byTable = Object.fromEntries(results.map((r) => [r.table, r]));
    expect(byTable['lambda_dlbenchmark_pytorch.csv']!.rowsRead).toBe(726);
    expect(byTable['llm_finetune_lora_qlora_tables.csv']!.rowsRead).toBe(211);
    expect(byTable['mlperf_training_llama2_70b_lora.csv']!.rowsRead).toBe(477);
    expect(byTable['simpletuner_segmented_checkpointing_h100_l40s.csv']!.rowsRead).toBe(682);
    for (const r of results) {
      const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
      expect(r.samples.length + r.unmapped.length + skipped).toBe(r.rowsRead);
      expect(r.samples.length).toBeGreaterThan(15);
      for (const s of r.samples) expect(s.stepTimeMs).toBeGreaterThan(0);
    }
    // GPU names differ between files and still meet in one catalog.
    const gpus = new Set(results.flatMap((r) => r.samples.map((s) => s.key.gpuId)));
    for (const id of ['h100-sxm', 'l40s', 'a100-80gb-sxm', 'b200', 'mi300x', 'rtx-4090', 'v100-16gb', 't4'].slice(0, 7)) expect(gpus).toContain(id);
  });
});
