// The second scenario list on the pinned n8n via the stock hook file, real n8n + real Kafka.
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { moreScenarios } from './more-scenarios.mjs';

moreScenarios({ version: PINNED(), mode: 'stock', label: 'more-stock-pinned' });
