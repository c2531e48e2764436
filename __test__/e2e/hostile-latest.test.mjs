// Hostile data and node events on the newest n8n 2.x (Node 24) via the stock hook file, real n8n + real Kafka (hostile-scenarios.mjs).
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { hostileScenarios } from './hostile-scenarios.mjs';

hostileScenarios({ version: LATEST(), label: 'hostile-latest' });
