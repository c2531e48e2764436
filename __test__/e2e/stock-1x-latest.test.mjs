// Core scenarios on the newest n8n 1.x (1.123.x) on Node 20 via the stock hook file, real n8n + real Kafka.
import { LATEST_1X } from '../../scripts/n8n/n8n-instance.mjs';
import { regularScenarios } from './scenarios.mjs';

regularScenarios({ version: LATEST_1X(), mode: 'stock', label: 'stock-1.x-latest', core: true });
