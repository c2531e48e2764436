// Node events on the newest n8n 2.x (Node 24) via the stock hook file, real n8n + real Kafka (node-events-scenarios.mjs).
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { nodeEventsScenarios } from './node-events-scenarios.mjs';

nodeEventsScenarios({ version: LATEST(), label: 'node-events-latest' });
