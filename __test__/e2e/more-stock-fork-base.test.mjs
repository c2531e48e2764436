// The second scenario list on n8n 1.104.2 (the smartdataHQ fork's base) on Node 20 via the stock hook file, real n8n + real Kafka.
import { FORK_BASE } from '../../scripts/n8n/n8n-instance.mjs';
import { moreScenarios } from './more-scenarios.mjs';

moreScenarios({ version: FORK_BASE(), mode: 'stock', label: 'more-stock-1.104-node20' });
