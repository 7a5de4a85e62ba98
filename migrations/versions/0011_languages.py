"""Languages: a patient's chosen language, and exercises' and stages' texts in other languages (issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_patients_language_known'),
            "language IS NULL OR language IN ('en', 'es')",
        )
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    with op.batch_alter_table('template_stages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('template_stages', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_patients_language_known'), type_='check')
        batch_op.drop_column('language')
