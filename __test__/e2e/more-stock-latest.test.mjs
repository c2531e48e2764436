// The second scenario list on the newest n8n 2.x via the stock hook file, real n8n + real Kafka.
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { moreScenarios } from './more-scenarios.mjs';

moreScenarios({ version: LATEST(), mode: 'stock', label: 'more-stock-latest' });
