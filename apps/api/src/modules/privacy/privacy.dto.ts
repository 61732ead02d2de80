import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class DeleteAccountDto {
  @ApiProperty({ description: 'Your current password (re-authentication).' })
  @IsString()
  @MaxLength(200)
  password!: string;

  @ApiPropertyOptional({ description: 'Current 6-digit code, when two-factor authentication is on.' })
  @IsOptional()
  @Matches(/^\d{6}$/, { message: 'totpCode must be 6 digits' })
  totpCode?: string;

  @ApiPropertyOptional({ description: 'An unused recovery code, instead of totpCode.' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  recoveryCode?: string;
}

export class AccountDeletionResultDto {
  @ApiProperty() deletedAt!: string;
  @ApiProperty({ description: 'Organizations only you belonged to, closed with the account.' }) organizationsClosed!: number;
  @ApiProperty({ description: 'Shared organizations you left; their data stays with the other members.' }) membershipsRemoved!: number;
  @ApiProperty() jobsCanceled!: number;
  @ApiProperty() datasetsDeleted!: number;
  @ApiProperty({ description: 'Stored job outputs (artifacts, checkpoints, logs) deleted.' }) objectsDeleted!: number;
}

export class DataExportDownloadDto {
  @ApiProperty() url!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty() fileName!: string;
}

export class DataExportDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['queued', 'running', 'ready', 'failed', 'expired'] }) status!: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) progressPct!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When the archive is deleted.' }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiProperty({ nullable: true, type: String }) failure!: string | null;
  @ApiProperty({ nullable: true, type: DataExportDownloadDto, description: 'A presigned download once ready (15 minutes; ask again for a fresh one).' }) download!: DataExportDownloadDto | null;
}
