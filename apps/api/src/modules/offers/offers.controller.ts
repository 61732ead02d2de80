import { GPU_CATALOG, getGpu, isGpuId } from '@anneal/benchmarks';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator.js';
import { ListOffersQueryDto, OfferDto, toOfferDto } from './dto/offers.dto.js';
import { OffersService } from './offers.service.js';

@ApiTags('offers')
@ApiBearerAuth()
@Controller('v1')
export class OffersController {
  constructor(private readonly offers: OffersService) {}

  /** Every matching offer across the configured providers, cheapest first. */
  @Get('offers')
  @ApiOkResponse({ type: OfferDto, isArray: true })
  async list(@Query() query: ListOffersQueryDto) {
    const listing = await this.offers.listing({
      gpuModelIds: query.gpuModel,
      minGpuCount: query.gpuCount,
      minVramGb: query.minVramGb,
      maxPriceMicrosPerGpuHour: query.maxPriceMicrosPerGpuHour === undefined ? undefined : BigInt(query.maxPriceMicrosPerGpuHour),
      regions: query.region,
      providerKinds: query.providerKind,
      spot: query.spot,
    });
    return {
      offers: listing.offers.map((offer) => toOfferDto(offer, isGpuId(offer.gpuModelId) ? getGpu(offer.gpuModelId).name : offer.gpuModelId)),
      failures: listing.failures,
    };
  }

  /** The GPU catalog: canonical models with memory, throughput, bandwidth and the names drivers print. */
  @Get('gpu-types')
  @Public()
  gpuTypes() {
    return GPU_CATALOG.map((gpu) => ({
      id: gpu.id,
      name: gpu.name,
      vendor: gpu.vendor,
      vramGb: gpu.vramGb,
      bf16DenseTflops: gpu.bf16DenseTflops,
      fp16DenseTflops: gpu.fp16DenseTflops,
      memoryBandwidthGbps: gpu.memoryBandwidthGbps,
      aliases: [...gpu.aliases],
    }));
  }
}
