-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "MailDomainRole" AS ENUM ('ADMIN', 'VIEWER');

-- CreateEnum
CREATE TYPE "AccessSource" AS ENUM ('ENTITLEMENTS', 'MANUAL');

-- CreateEnum
CREATE TYPE "AccessAction" AS ENUM ('GRANTED', 'UPGRADED', 'REVOKED');

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "sub" TEXT,
    "email" TEXT,
    "full_name" TEXT,
    "short_name" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "is_superuser" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "last_login_at" TIMESTAMP(3),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mail_domains" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "custom_attributes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mail_domains_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mail_domain_accesses" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "maildomain_id" TEXT NOT NULL,
    "role" "MailDomainRole" NOT NULL,
    "source" "AccessSource" NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mail_domain_accesses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_events" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" "AccessAction" NOT NULL,
    "user_id" TEXT NOT NULL,
    "maildomain_id" TEXT NOT NULL,
    "domain_name" TEXT NOT NULL,
    "role" "MailDomainRole" NOT NULL,
    "source" "AccessSource" NOT NULL,
    "actor" TEXT NOT NULL,
    "correlation_id" TEXT NOT NULL,

    CONSTRAINT "access_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_sub_key" ON "users"("sub");

-- CreateIndex
CREATE INDEX "users_email_idx" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "mail_domains_name_key" ON "mail_domains"("name");

-- CreateIndex
CREATE INDEX "mail_domain_accesses_user_id_idx" ON "mail_domain_accesses"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "mail_domain_accesses_maildomain_id_user_id_key" ON "mail_domain_accesses"("maildomain_id", "user_id");

-- CreateIndex
CREATE INDEX "access_events_user_id_idx" ON "access_events"("user_id");

-- CreateIndex
CREATE INDEX "access_events_maildomain_id_idx" ON "access_events"("maildomain_id");

-- CreateIndex
CREATE INDEX "access_events_at_idx" ON "access_events"("at");

-- AddForeignKey
ALTER TABLE "mail_domain_accesses" ADD CONSTRAINT "mail_domain_accesses_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mail_domain_accesses" ADD CONSTRAINT "mail_domain_accesses_maildomain_id_fkey" FOREIGN KEY ("maildomain_id") REFERENCES "mail_domains"("id") ON DELETE CASCADE ON UPDATE CASCADE;
