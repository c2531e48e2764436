// Fork entry (n8n-kafka-execution-logger/n8n): the backend module `kafka-logger` (docs/fork.md); importing it wires the logger into n8n's execution lifecycle.
import { wireAtImport } from './kafka-logger.service';

export { KafkaExecutionLoggerService } from './kafka-logger.service';
export { KafkaLoggerController } from './kafka-logger.controller';
export { MODULE_NAME, KafkaLoggerModule } from './kafka-logger.module';

wireAtImport();
