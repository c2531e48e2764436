// Stock-n8n entry (EXTERNAL_HOOK_FILES=n8n-kafka-execution-logger/hooks): registers the logger when Kafka is configured; never throws while loading.
import { buildHookFile, type HookFile } from './stock-hook-file';

const hookFile: HookFile = buildHookFile();
export = hookFile;
