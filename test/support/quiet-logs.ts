// The Lambda handlers log structured JSON to stdout through Powertools; in a test run that is
// noise between jest's lines. A test that reads the logs sets its own level.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Its CloudWatch embedded metrics are JSON lines on stdout too.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
