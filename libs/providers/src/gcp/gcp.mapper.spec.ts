import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NoCapacityError, NotFoundError, ProviderAuthError, ProvisioningError, QuotaExceededError } from '../port/provider.errors.js';
import {
  gcpCallError,
  gcpInstanceName,
  gcpInstanceStatus,
  gcpLabelValue,
  gcpOfferId,
  gcpOperationError,
  gcpStartupScript,
  parseGcpInstanceId,
  parseGcpOfferId,
} from './gcp.mapper.js';
import { machineShapeFor } from './gcp-pricing.js';

const context = { zone: 'us-central1-a', acceleratorType: 'nvidia-h100-80gb', secrets: ['tok-SECRET-123'] };

describe('GCP offer and instance ids', () => {
  it('round-trips offer ids', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('us-central1-a', 'europe-west4-b', 'asia-northeast1-c'),
        fc.constantFrom('nvidia-l4', 'nvidia-tesla-t4', 'nvidia-a100-80gb'),
        fc.integer({ min: 1, max: 16 }),
        fc.boolean(),
        (zone, acceleratorType, gpuCount, spot) => {
          const key = { zone, acceleratorType, gpuCount, spot };
          expect(parseGcpOfferId(gcpOfferId(key))).toEqual(key);
        },
      ),
    );
    expect(parseGcpOfferId('gcp:us-central1:nvidia-l4:1:spot')).toBeNull();
    expect(parseGcpOfferId('runpod:pod:x:1:spot')).toBeNull();
  });

  it('makes valid instance names and label values from any attempt id', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 80 }), (attemptId) => {
        const name = gcpInstanceName(attemptId);
        expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
        expect(parseGcpInstanceId(`us-central1-a/${name}`)).toEqual({ zone: 'us-central1-a', name });
        expect(gcpLabelValue(attemptId)).toMatch(/^[a-z0-9_-]{0,63}$/);
      }),
    );
    expect(parseGcpInstanceId('anneal-x')).toBeNull();
  });
});

describe('GCP machine shapes', () => {
  it('bundles GPUs in A2/A3/G2 machine types and attaches T4/V100 to N1', () => {
    expect(machineShapeFor('nvidia-h100-80gb', 8)).toEqual({ kind: 'bundled', machineType: 'a3-highgpu-8g' });
    expect(machineShapeFor('nvidia-tesla-a100', 16)).toEqual({ kind: 'bundled', machineType: 'a2-megagpu-16g' });
    expect(machineShapeFor('nvidia-l4', 1)).toEqual({ kind: 'bundled', machineType: 'g2-standard-8' });
    expect(machineShapeFor('nvidia-tesla-v100', 8)).toEqual({ kind: 'attached', machineType: 'n1-standard-64', acceleratorType: 'nvidia-tesla-v100', acceleratorCount: 8 });
    expect(machineShapeFor('nvidia-tesla-t4', 8)).toBeNull();
    expect(machineShapeFor('nvidia-tesla-p4', 1)).toBeNull();
  });
});

describe('GCP statuses', () => {
  it('maps every instance status onto the port', () => {
    expect(['PROVISIONING', 'STAGING', 'PENDING'].map(gcpInstanceStatus)).toEqual(['provisioning', 'provisioning', 'provisioning']);
    expect(['RUNNING', 'REPAIRING'].map(gcpInstanceStatus)).toEqual(['running', 'running']);
    expect(['STOPPING', 'SUSPENDING', 'PENDING_STOP'].map(gcpInstanceStatus)).toEqual(['stopping', 'stopping', 'stopping']);
    expect(['STOPPED', 'SUSPENDED', 'TERMINATED'].map(gcpInstanceStatus)).toEqual(['stopped', 'stopped', 'stopped']);
  });
});

describe('GCP errors', () => {
  it('maps operation errors: capacity, quota, others; success is null', () => {
    expect(gcpOperationError({ status: 'DONE' }, context)).toBeNull();
    expect(gcpOperationError({ status: 'DONE', error: { errors: [{ code: 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS', message: 'x' }] } }, context)).toBeInstanceOf(
      NoCapacityError,
    );
    const quota = gcpOperationError({ status: 'DONE', error: { errors: [{ code: 'QUOTA_EXCEEDED', message: "Quota 'NVIDIA_H100_GPUS' exceeded. Limit: 0.0 in region us-central1." }] } }, context);
    expect(quota).toBeInstanceOf(QuotaExceededError);
    expect(quota?.message).toBe("GCP us-central1-a: the project's GPU quota does not allow another H100 SXM (quota NVIDIA_H100_GPUS)");
    const other = gcpOperationError({ status: 'DONE', httpErrorStatusCode: 400, error: { errors: [{ code: 'INVALID_FIELD_VALUE', message: 'bad tok-SECRET-123' }] } }, context);
    expect(other).toBeInstanceOf(ProvisioningError);
    expect(other?.message).not.toContain('tok-SECRET-123');
    expect(other?.retryable).toBe(false);
  });

  it('maps client errors by gRPC code and text', () => {
    expect(gcpCallError({ code: 16, message: 'Request had invalid authentication credentials.' }, context)).toBeInstanceOf(ProviderAuthError);
    expect(gcpCallError({ code: 7, message: "Required 'compute.instances.create' permission" }, context)).toBeInstanceOf(ProviderAuthError);
    expect(gcpCallError({ code: 7, message: 'x', reason: 'QUOTA_EXCEEDED' }, context)).toBeInstanceOf(QuotaExceededError);
    expect(gcpCallError({ code: 5, message: "The resource 'x' was not found" }, context)).toBeInstanceOf(NotFoundError);
    expect(gcpCallError({ code: 14, message: 'ZONE_RESOURCE_POOL_EXHAUSTED' }, context)).toBeInstanceOf(NoCapacityError);
    const unavailable = gcpCallError({ code: 14, message: 'backend unavailable' }, context);
    expect(unavailable).toBeInstanceOf(ProvisioningError);
    expect(unavailable.retryable).toBe(true);
    expect(gcpCallError(new Error('socket hang up'), context).retryable).toBe(true);
  });
});

describe('GCP startup script', () => {
  it('is valid bash, registers and runs the agent, and holds no secret', () => {
    const script = gcpStartupScript({ apiUrl: "https://api.anneal.test/it's", priceMicrosPerGpuHour: 2_253_000n, zone: 'us-central1-a', agentInstallCommand: 'npm install -g @anneal/node-agent' });
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(script).toContain('export ANNEAL_PRICE_USD=2.253');
    expect(script).toContain("export ANNEAL_API_URL='https://api.anneal.test/it'\\''s'");
    expect(script).toContain('trap finish EXIT');
    expect(script).not.toMatch(/join-?token\s*=/i);
  });
});
