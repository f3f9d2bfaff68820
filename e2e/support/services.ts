export * from '../../scripts/lib/local-services.ts';
