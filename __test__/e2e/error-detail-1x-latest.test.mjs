// ERROR_DETAIL and REDACT on the newest n8n 1.x via the stock hook file (its runHook wrapper), real n8n + real Kafka.
import { LATEST_1X } from '../../scripts/n8n/n8n-instance.mjs';
import { errorDetailScenarios } from './error-detail-scenarios.mjs';

errorDetailScenarios({ version: LATEST_1X(), label: 'detail-1x' });
