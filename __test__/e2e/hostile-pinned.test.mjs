// Hostile data and node events on the pinned n8n (Node 20) via the stock hook file, real n8n + real Kafka (hostile-scenarios.mjs).
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { hostileScenarios } from './hostile-scenarios.mjs';

hostileScenarios({ version: PINNED(), label: 'hostile-pinned' });
