// Invokes one packaged function as the Lambda Node.js runtime does, under the Node.js that runs
// this file (the deploy tests start it with the runtime's version, from test/deploy/setup.sh):
// resolves the handler setting (`dist/functions/ingest/index.handler`: module
// dist/functions/ingest/index.{js,mjs,cjs} under the code root, export `handler`), sets the
// variables the runtime sets, and calls handler(event, context) once.
//
//   node test/deploy/invoke.mjs CODE_ROOT HANDLER TIMEOUT_SECONDS EVENT_JSON RESULT_FILE
//
// The function's own logs go to stdout/stderr as in Lambda; RESULT_FILE receives
// {"node": "v24...", "result": ...} or {"node": ..., "error": {"name", "message"}}.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [codeRoot, handlerSetting, timeoutSeconds, eventJson, resultFile] = process.argv.slice(2);
if (!resultFile) {
  process.stderr.write('usage: invoke.mjs CODE_ROOT HANDLER TIMEOUT_SECONDS EVENT_JSON RESULT_FILE\n');
  process.exit(2);
}

const dot = handlerSetting.lastIndexOf('.');
const modulePath = handlerSetting.slice(0, dot);
const exportName = handlerSetting.slice(dot + 1);
const file = ['.js', '.mjs', '.cjs']
  .map((ext) => path.resolve(codeRoot, modulePath + ext))
  .find((f) => existsSync(f));

const deadline = Date.now() + Number(timeoutSeconds) * 1000;
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'closer-audit-test';
Object.assign(process.env, {
  LAMBDA_TASK_ROOT: codeRoot,
  _HANDLER: handlerSetting,
  AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
  AWS_LAMBDA_FUNCTION_NAME: functionName,
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
});
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-central-1:123456789012:function:${functionName}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '1024',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: `2026/12/01/[$LATEST]${randomUUID().replaceAll('-', '')}`,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};

let outcome;
try {
  if (!file) throw new Error(`no module ${modulePath}.{js,mjs,cjs} under ${codeRoot}`);
  const handler = (await import(pathToFileURL(file).href))[exportName];
  if (typeof handler !== 'function') throw new Error(`${file} exports no function ${exportName}`);
  outcome = { result: await handler(JSON.parse(eventJson), context) };
} catch (err) {
  outcome = { error: { name: err?.name, message: err?.message } };
}
await writeFile(resultFile, JSON.stringify({ node: process.version, ...outcome }));
// Lambda answers when the handler's promise settles, whatever sockets stay open; so does this.
process.exit(0);
