/** What the console offers a role; the API still decides every request. */
export interface Capabilities {
  publish: boolean
  admin: boolean
}

export function capabilitiesOf(role: string): Capabilities {
  return { publish: role === 'admin' || role === 'publisher', admin: role === 'admin' }
}

export type Tab = 'feed' | 'publish' | 'history' | 'subscriptions' | 'reports' | 'users' | 'roles' | 'audit'

export function tabsFor(capabilities: Capabilities): Tab[] {
  const tabs: Tab[] = ['feed']
  if (capabilities.publish) tabs.push('publish')
  tabs.push('history', 'subscriptions', 'reports')
  if (capabilities.admin) tabs.push('users', 'roles', 'audit')
  return tabs
}
