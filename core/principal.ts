/** Who is acting: the user behind a verified API key, on either door. */
export interface Principal {
  userId: number
  userName: string
  role: string
  /** The API key that authenticated this principal (null for the server itself). */
  keyId: number | null
  keyPrefix: string | null
  /** The MQTT client id, when acting over MQTT. */
  clientId?: string
}

export type Action = 'publish' | 'subscribe' | 'read' | 'admin'
export const ACTIONS: readonly Action[] = ['publish', 'subscribe', 'read', 'admin']
