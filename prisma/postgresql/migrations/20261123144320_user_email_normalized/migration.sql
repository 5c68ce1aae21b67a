-- DropIndex
DROP INDEX "users_email_idx";

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "email_normalized" TEXT;

-- CreateIndex
CREATE INDEX "users_email_normalized_idx" ON "users"("email_normalized");
