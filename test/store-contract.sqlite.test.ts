import { storeContract } from './store-contract.cases.ts';

storeContract('sqlite');
