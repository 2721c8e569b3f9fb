/**
 * The explorer page: GraphiQL 5 (doc explorer, history, query builder) with a role switcher for
 * the development sample users and a picker of example operations. Everything it loads comes
 * from the gateway that served it.
 */
import { explorerPlugin } from '@graphiql/plugin-explorer';
import '@graphiql/plugin-explorer/style.css';
import { StarIcon, useGraphiQL, useGraphiQLActions, type GraphiQLPlugin } from '@graphiql/react';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import 'graphiql/style.css';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { CONFIG_ELEMENT_ID, type DevTokenResponse, type ExplorerExample, type ExplorerPageConfig } from '../page-config.js';
import { setUpMonacoWorkers } from './workers.js';

const config = JSON.parse(document.getElementById(CONFIG_ELEMENT_ID)!.textContent!) as ExplorerPageConfig;
setUpMonacoWorkers(config.workers);

type TokenState = { state: 'none' } | { state: 'loading' } | { state: 'ready'; token: string } | { state: 'error'; message: string };

/** HTTP for queries and mutations, graphql-ws on the same path for subscriptions; both carry the caller's token. */
function createFetcher(token: string | null) {
  const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const wsUrl = new URL(config.endpoint, location.href);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const wsClient = createClient({ url: wsUrl.href, lazy: true, retryAttempts: 0, connectionParams: authorization });
  return { fetcher: createGraphiQLFetcher({ url: config.endpoint, headers: authorization, wsClient }), dispose: () => void wsClient.dispose() };
}

/** A development token for a sample user, renewed before it expires. */
function useDevToken(userId: string | null): TokenState {
  const [state, setState] = useState<TokenState>({ state: userId ? 'loading' : 'none' });
  useEffect(() => {
    if (!userId || !config.devTokenPath) return setState({ state: 'none' });
    let renew: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const load = async () => {
      setState({ state: 'loading' });
      try {
        const response = await fetch(config.devTokenPath!, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: userId }),
        });
        if (!response.ok) throw new Error(`the gateway answered ${response.status}`);
        const { token, expiresInSeconds } = (await response.json()) as DevTokenResponse;
        if (cancelled) return;
        setState({ state: 'ready', token });
        renew = setTimeout(load, expiresInSeconds * 800);
      } catch (error) {
        if (!cancelled) setState({ state: 'error', message: (error as Error).message });
      }
    };
    void load();
    return () => {
      cancelled = true;
      clearTimeout(renew);
    };
  }, [userId]);
  return state;
}

/** The document's operations, for GraphiQL to know at once whether a subscription (graphql-ws) is to run. */
function operationFacts(query: string, operationName: string) {
  try {
    const documentAST = parse(query);
    const operations = documentAST.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
    return operations.some((operation) => operation.name?.value === operationName) ? { documentAST, operationName, operations } : null;
  } catch {
    return null; // edited into something unparsable: GraphiQL reads it from the editor
  }
}

function ExampleList({ examples }: { examples: ExplorerExample[] }) {
  const queryEditor = useGraphiQL((state) => state.queryEditor);
  const variableEditor = useGraphiQL((state) => state.variableEditor);
  const tabs = useGraphiQL((state) => state.tabs);
  const { addTab, changeTab, setOperationFacts } = useGraphiQLActions();
  return (
    <div className="explorer-examples">
      <div className="graphiql-doc-explorer-title">Voorbeelden (examples)</div>
      <ul>
        {examples.map((example) => (
          <li key={example.name}>
            <button
              type="button"
              className="graphiql-un-styled"
              data-example={example.name}
              onClick={() => {
                // The example's tab when it is open (with the user's edits), otherwise a tab of its own:
                // no work in another tab is overwritten, and clicking twice does not open it twice.
                const open = tabs.findIndex((tab) => tab.operationName === example.name);
                if (open >= 0) {
                  changeTab(open);
                } else {
                  addTab();
                  queryEditor?.setValue(example.query);
                  variableEditor?.setValue(example.variables);
                }
                const facts = operationFacts(open >= 0 ? (tabs[open]!.query ?? '') : example.query, example.name);
                if (facts) setOperationFacts(facts);
              }}
            >
              {example.title}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const examplesPlugin: GraphiQLPlugin = { title: 'Voorbeelden (examples)', icon: StarIcon, content: () => <ExampleList examples={config.examples} /> };
// The documentation explorer is GraphiQL's reference plugin; history and the query builder are added here.
const plugins = [HISTORY_PLUGIN, explorerPlugin(), examplesPlugin];
const defaultTabs = config.examples.map(({ query, variables }) => ({ query, variables }));
// GraphiQL fills the variables editor of the opening tab from storage only, not from the default
// tabs: on a first visit (nothing stored) the opening example's variables must be given, or Run
// fails on its required variables until one switches tabs.
const firstVisit = localStorage.getItem('graphiql:tabState') === null;
const openingVariables = firstVisit ? defaultTabs[0]?.variables : undefined;

function Explorer() {
  const minting = config.devTokenPath !== null;
  const [userId, setUserId] = useState<string | null>(minting ? (config.sampleUsers[0]?.id ?? null) : null);
  const [pastedToken, setPastedToken] = useState('');
  const devToken = useDevToken(minting ? userId : null);
  // A sample user's token is kept while the next one loads: GraphiQL introspects again whenever the
  // fetcher changes, and a token-less introspection (401) answered after a later one leaves its
  // Docs pane on "Error fetching schema" for good (GraphiQL 5 records the error of a stale request).
  const [mintedToken, setMintedToken] = useState<string | null>(null);
  useEffect(() => {
    if (devToken.state === 'ready') setMintedToken(devToken.token);
  }, [devToken]);
  const token = minting ? mintedToken : pastedToken.trim() || null;
  // Nor is GraphiQL started before the first token: it introspects when it starts.
  const waitingForFirstToken = minting && mintedToken === null && devToken.state !== 'error';
  const { fetcher, dispose } = useMemo(() => createFetcher(token), [token]);
  useEffect(() => dispose, [dispose]);
  const user = config.sampleUsers.find((candidate) => candidate.id === userId);
  const tokenState = minting ? devToken.state : token ? 'ready' : 'none';

  return (
    <div className="explorer">
      <header className="explorer-bar" data-token-state={tokenState} data-user={userId ?? ''}>
        <strong>ketengraph</strong>
        {minting ? (
          <>
            <label>
              Rol (role){' '}
              <select name="role" value={userId ?? ''} onChange={(event) => setUserId(event.target.value)}>
                {config.sampleUsers.map((sample) => (
                  <option key={sample.id} value={sample.id}>
                    {sample.label}
                  </option>
                ))}
              </select>
            </label>
            <span className="explorer-role-description">{user?.description}</span>
            {devToken.state === 'error' ? <span className="explorer-error">Geen token (no token): {devToken.message}</span> : null}
          </>
        ) : (
          <label>
            Token{' '}
            <input
              name="token"
              type="password"
              autoComplete="off"
              placeholder="Bearer-token van uw identity provider (your identity provider's token)"
              value={pastedToken}
              onChange={(event) => setPastedToken(event.target.value)}
            />
          </label>
        )}
      </header>
      {waitingForFirstToken ? null : (
        <GraphiQL fetcher={fetcher} plugins={plugins} defaultTabs={defaultTabs} initialVariables={openingVariables} defaultEditorToolsVisibility="variables" />
      )}
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<Explorer />);
