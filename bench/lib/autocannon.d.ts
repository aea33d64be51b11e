/** The part of autocannon 9's API the bench uses (the package ships no types). */
declare module "autocannon" {
  namespace autocannon {
    type Request = {
      method?: string;
      path?: string;
      body?: string;
      headers?: Record<string, string>;
      setupRequest?: (r: Request) => Request;
    };
    type Options = Request & { url: string; requests: Request[]; [option: string]: unknown };
    type Result = { duration: number; errors: number; timeouts: number; non2xx: number; requests: { total: number } };
    type Instance = {
      stop(): void;
      on(event: "response", listener: (client: unknown, status: number, bytes: number, ms: number) => void): Instance;
    };
  }
  function autocannon(options: autocannon.Options, callback: (error: Error | null, result: autocannon.Result) => void): autocannon.Instance;
  export = autocannon;
}
