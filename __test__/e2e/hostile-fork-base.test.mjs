// Hostile data and node events on n8n 1.104.2 (the smartdataHQ fork's base, Node 20) via the stock hook file, real n8n + real Kafka (hostile-scenarios.mjs).
import { FORK_BASE } from '../../scripts/n8n/n8n-instance.mjs';
import { hostileScenarios } from './hostile-scenarios.mjs';

hostileScenarios({ version: FORK_BASE(), label: 'hostile-fork-base' });
