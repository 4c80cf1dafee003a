/**
 * The JSON the demo's own API answers with: written by the server (demo/server), read by the page
 * (demo/src). Types and constants only, so both sides can import it.
 */

export interface User {
  id: number;
  name: string;
  email: string;
  role: string;
  team: string;
  bio: string;
  updatedAt: string;
}

export interface UserPage {
  users: Pick<User, 'id' | 'name' | 'role' | 'team'>[];
  page: number;
  pages: number;
  perPage: number;
  total: number;
}

export interface Dashboard {
  users: number;
  byRole: { role: string; users: number }[];
  byTeam: { team: string; users: number }[];
  recentlyUpdated: Pick<User, 'id' | 'name' | 'updatedAt'>[];
  viewer: string | null;
  generatedAt: string;
}

export interface Account {
  username: string;
  userId: number;
  label: string;
}

export interface Me {
  username: string;
  label: string;
  user: User | null;
}

export interface LoginAnswer {
  token: string;
  account: Account;
}

/** `PUT /api/v1/users/:id`: the row as saved and the tags purged. */
export interface SaveAnswer {
  user: User;
  purged: string[];
}

export const ROLES = ['admin', 'editor', 'viewer'] as const;
export const TEAMS = ['Platform', 'Payments', 'Search', 'Mobile', 'Growth'] as const;
