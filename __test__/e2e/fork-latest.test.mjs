// Regular-mode scenarios on the latest n8n via the fork entry point, real n8n + real Kafka.
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { regularScenarios } from './scenarios.mjs';

regularScenarios({ version: LATEST(), mode: 'fork', label: 'fork-latest' });
