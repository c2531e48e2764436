// Core scenarios on the newest n8n 2.x on Node 26 via the stock hook file, real n8n + real Kafka.
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { regularScenarios } from './scenarios.mjs';

regularScenarios({ version: `${LATEST()}@26`, mode: 'stock', label: 'stock-latest-node26', core: true });
