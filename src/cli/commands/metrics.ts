import { Command } from 'commander'
import { ApiClient, addClientOptions } from '../api-client.js'

export function metricsCommand (): Command {
  return addClientOptions(new Command('metrics'))
    .description('print the running node\'s Prometheus metrics (what GET /metrics serves)')
    .action(async (_opts: unknown, cmd: Command) => {
      const api = await ApiClient.forCommand(cmd)
      process.stdout.write(await api.text('/metrics'))
    })
}
