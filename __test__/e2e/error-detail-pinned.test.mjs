// ERROR_DETAIL and REDACT on the pinned n8n via the stock hook file, real n8n + real Kafka (error-detail-scenarios.mjs).
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { errorDetailScenarios } from './error-detail-scenarios.mjs';

errorDetailScenarios({ version: PINNED(), label: 'detail-pinned' });
